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
{{- include "lbhealth.fullname" . }}-admin
{{- end }}
{{- end }}

{{/* Whether more than one pod may run, so a disruption budget makes sense. */}}
{{- define "lbhealth.multiPod" -}}
{{- if or .Values.autoscaling.enabled (gt (int .Values.replicaCount) 1) }}true{{ end }}
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
A checksum of the admin token's Secret, so that a new token rolls the pods (the token is
read from the environment at start). The chart's own Secret: from its rendered manifest.
An existing Secret: from its data as the cluster holds it, read with `lookup` when Helm
renders against the cluster (install, upgrade); `helm template` has no cluster, and the
checksum is then that of an empty object.
*/}}
{{- define "lbhealth.secretChecksum" -}}
{{- if .Values.admin.existingSecret }}
{{- $existing := lookup "v1" "Secret" .Release.Namespace .Values.admin.existingSecret }}
{{- get $existing "data" | default dict | toJson | sha256sum }}
{{- else if .Values.admin.token }}
{{- include (print $.Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end }}
{{- end }}
