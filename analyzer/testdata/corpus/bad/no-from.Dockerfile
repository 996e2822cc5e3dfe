RUN echo "there is no base image"
CMD ["true"]
