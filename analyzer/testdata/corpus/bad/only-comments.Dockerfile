# syntax=docker/dockerfile:1
# This file has directives and comments but not a single instruction.
# FROM alpine:3.20
