FROM a AS b
FROM b AS a
COPY --from=a / /
COPY --from=missing-stage /x /x
COPY --from=7 /y /y
