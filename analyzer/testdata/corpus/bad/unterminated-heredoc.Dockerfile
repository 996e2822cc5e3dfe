# syntax=docker/dockerfile:1
FROM debian:bookworm-slim
RUN <<EOF
apt-get update
apt-get install -y curl
# the closing EOF never comes
CMD ["curl", "--version"]
