{{/* Chart name, truncated to the 63 characters of a DNS label. */}}
{{- define "lbhealth.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-qualified name; the release name alone when it already holds the chart's. */}}
{{- define "lbhealth.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "lbhealth.selectorLabels" -}}
app.kubernetes.io/name: {{ include "lbhealth.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "lbhealth.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "lbhealth.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The Secret holding the admin token, or "" when the admin API is disabled. */}}
{{- define "lbhealth.adminSecret" -}}
{{- if and .Values.admin.token .Values.admin.existingSecret }}
{{- fail "admin: set either token or existingSecret, not both" }}
{{- end }}
{{- if .Values.admin.existingSecret }}
{{- .Values.admin.existingSecret }}
{{- else if .Values.admin.token }}
{{- include "lbhealth.fullname" . }}
{{- end }}
{{- end }}

{{/* The Secret holding the store URL, or "" without a shared store. */}}
{{- define "lbhealth.storeSecret" -}}
{{- if and .Values.store.url .Values.store.existingSecret }}
{{- fail "store: set either url or existingSecret, not both" }}
{{- end }}
{{- if .Values.store.existingSecret }}
{{- .Values.store.existingSecret }}
{{- else if .Values.store.url }}
{{- include "lbhealth.fullname" . }}
{{- end }}
{{- end }}

{{/* Whether more than one pod runs, so a disruption budget makes sense. */}}
{{- define "lbhealth.multiPod" -}}
{{- if gt (int .Values.replicaCount) 1 }}true{{ end }}
{{- end }}

{{/* Refuse the values that would make replicas disagree, saying why. */}}
{{- define "lbhealth.validate" -}}
{{- if .Values.autoscaling }}
{{- fail "autoscaling was removed: replicas are an availability choice, not a load one (one pod answers tens of thousands of monitor requests a second, and a store shares the probes); set replicaCount instead (docs/high-availability.md)" }}
{{- end }}
{{- if and (include "lbhealth.multiPod" .) (include "lbhealth.adminSecret" .) (not (include "lbhealth.storeSecret" .)) }}
{{- fail (printf "replicaCount %d with the admin API enabled needs a shared store: a drain or maintenance set through one replica would not reach the others, and monitors behind the Service would see DRAIN and UP by turns. Set store.url or store.existingSecret (docs/high-availability.md), or replicaCount 1, or disable the admin API and declare admin_state per node in the inventory" (int .Values.replicaCount)) }}
{{- end }}
{{- end }}

{{/* The pod's ServiceAccount: the one created, or the one named, or the namespace's default. */}}
{{- define "lbhealth.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "lbhealth.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
A checksum of the Secrets the pod reads (admin token, store URL), so that a new value rolls
the pods (both are read from the environment at start). The chart's own Secret: from its
rendered manifest.
An existing Secret: from its data as the cluster holds it, read with `lookup` when Helm
renders against the cluster (install, upgrade); `helm template` has no cluster, and the
checksum is then that of an empty object.
*/}}
{{- define "lbhealth.secretChecksum" -}}
{{- $parts := list }}
{{- range $existing := list .Values.admin.existingSecret .Values.store.existingSecret }}
{{- if $existing }}
{{- $secret := lookup "v1" "Secret" $.Release.Namespace $existing }}
{{- $parts = append $parts (get $secret "data" | default dict | toJson) }}
{{- end }}
{{- end }}
{{- if or (and .Values.admin.token (not .Values.admin.existingSecret)) (and .Values.store.url (not .Values.store.existingSecret)) }}
{{- $parts = append $parts (include (print $.Template.BasePath "/secret.yaml") .) }}
{{- end }}
{{- if $parts }}
{{- join "\n" $parts | sha256sum }}
{{- end }}
{{- end }}
