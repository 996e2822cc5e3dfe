FROM alpine:3.20
CMD ["sh", "-c", "echo unterminated
ENTRYPOINT ["/bin/sh"
HEALTHCHECK CMD [
