<%@ page contentType="text/html; charset=UTF-8" import="java.io.*,java.sql.*" %>
<html><head><title>Agent status</title></head><body>
<h1>Agent status</h1>
<p>Agents logged in: <%= 42 %></p>
<%
  try {
    try {
      throw new SQLException("Connection refused: connect", "08001");
    } catch (SQLException e) {
      throw new IllegalStateException("cannot load agent list", e);
    }
  } catch (Exception e) {
    out.println("<!--");
    StringWriter trace = new StringWriter();
    e.printStackTrace(new PrintWriter(trace));
    out.println(trace);
    out.println("-->");
  }
%>
<p>Last refresh: now</p>
</body></html>
