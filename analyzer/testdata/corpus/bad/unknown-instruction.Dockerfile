FROM alpine:3.20
INSTALL curl
RUN apk add --no-cache curl
COPYY . /app
CMD ["curl", "--help"]
