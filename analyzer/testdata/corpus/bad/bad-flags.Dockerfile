FROM --platform alpine:3.20
COPY --from= . /app
COPY --chown=::: a b
RUN --mount=type=cache echo missing target
RUN --mount=type=nonsense,target=/x true
HEALTHCHECK --interval=soon CMD true
ADD --checksum=md5:abc https://example.com/x /x
