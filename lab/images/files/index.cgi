#!/bin/sh
# GET / : busybox httpd runs cgi-bin/index.cgi for a directory URL when there is no index.html. Asks the
# metadata endpoint on each request, so the page always names the task that answered.
APP_VERSION=${APP_VERSION:-$(cat /etc/web-version 2>/dev/null)}
arn=$(task-arn) || arn=unknown
printf 'Content-Type: text/plain\r\n\r\n'
echo "task=${arn##*/} arn=$arn host=$(hostname) version=${APP_VERSION:-1}"
