FROM alpine:3.20
LABEL description="café crème ÿþ broken"
RUN echo "Ã(  ¡ invalid sequences" > /tmp/x
CMD ["/bin/sh", "-c", "echo í €"]
