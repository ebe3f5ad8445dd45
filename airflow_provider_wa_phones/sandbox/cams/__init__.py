"""Emulated Alibaba Cloud ChatApp Message Service (CAMS), RPC style, API version 2020-06-06."""
