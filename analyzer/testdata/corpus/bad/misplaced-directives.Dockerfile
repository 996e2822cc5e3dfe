FROM alpine:3.20
# syntax=docker/dockerfile:1
# escape=`
RUN echo "directives after the first instruction are ordinary comments" `
    && echo "so this backtick is not an escape"
