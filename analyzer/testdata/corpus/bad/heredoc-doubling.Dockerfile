FROM alpine:3.20
ARG V0=xxxxxxxxxxxxxxxx
ARG V1=${V0}${V0}
ARG V2=${V1}${V1}
ARG V3=${V2}${V2}
ARG V4=${V3}${V3}
ARG V5=${V4}${V4}
ARG V6=${V5}${V5}
ARG V7=${V6}${V6}
ARG V8=${V7}${V7}
ARG V9=${V8}${V8}
ARG V10=${V9}${V9}
ARG V11=${V10}${V10}
ARG V12=${V11}${V11}
ARG V13=${V12}${V12}
ARG V14=${V13}${V13}
ARG V15=${V14}${V14}
COPY <<EOF /etc/big
${V15}${V15}
${V15}${V15}
EOF
