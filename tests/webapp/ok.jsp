<%@ page contentType="text/html; charset=UTF-8" %>
<html><head><title>Agent status</title>
<!-- <link rel="stylesheet" href="error.css"> -->
</head><body>
<h1>Agent status</h1>
<!--
  Old error banner, kept for reference:
  <div class="error">HTTP Status 500 - Internal Server Error</div>
  <p>catch (Exception e) { showError(e); } // NullPointerException handling moved to ErrorFilter</p>
-->
<p>Agents logged in: <%= 42 %></p>
</body></html>
