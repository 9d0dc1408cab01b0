<%@ page contentType="text/html; charset=UTF-8" %>
<html><head><title>Queue status</title></head><body>
<h1>Queue status</h1>
<%
  String queue = request.getParameter("queue");
  out.println("<p>Queue length: " + queue.length() + "</p>");
%>
</body></html>
