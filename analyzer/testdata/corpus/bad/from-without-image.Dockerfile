FROM
RUN echo hi
FROM AS build
FROM alpine:3.20 AS
