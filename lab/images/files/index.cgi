#!/bin/sh
# GET / : busybox httpd runs cgi-bin/index.cgi for a directory URL when there is no index.html. The page names
# the task that answered, from the metadata endpoint; once the endpoint named the task the page is kept in
# /tmp/web-page (a task's ARN does not change), since asking on every request cost more than all the rest.
# WEB_RESPONSE_DELAY (seconds, unset: none) holds each answer that long, as an application's own work would.
if ! { read -r page </tmp/web-page; } 2>/dev/null; then
    APP_VERSION=${APP_VERSION:-$(cat /etc/web-version 2>/dev/null)}
    arn=$(task-arn) || arn=unknown
    page="task=${arn##*/} arn=$arn host=$(hostname) version=${APP_VERSION:-1}"
    [ "$arn" = unknown ] || { echo "$page" >/tmp/web-page.$$ && mv /tmp/web-page.$$ /tmp/web-page; }
fi
[ -z "$WEB_RESPONSE_DELAY" ] || sleep "$WEB_RESPONSE_DELAY"
printf 'Content-Type: text/plain\r\n\r\n'
echo "$page"
