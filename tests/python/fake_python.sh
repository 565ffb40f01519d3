#!/bin/sh
# Stands in for a Python whose torch is 1.0.0: what CMake asks EIPROP_PYTHON (cmake/python.cmake).
printf '1.0.0\n1\n'
