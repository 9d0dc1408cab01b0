<%@ page contentType="text/html; charset=UTF-8" import="java.sql.*" %>
<html><head><title>Routing</title></head><body>
<%
  if (request.getParameter("ok") == null) {
    try {
      throw new SQLException("ORA-12541: TNS:no listener");
    } catch (SQLException e) {
      throw new ServletException("routing table unavailable", e);
    }
  }
%>
<p>Routing table loaded.</p>
</body></html>
