#!/bin/sh
convert "$1" -resize 50% "$2"
