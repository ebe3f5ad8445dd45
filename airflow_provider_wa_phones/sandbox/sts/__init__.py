"""Emulated Alibaba Cloud credential services: STS (over TLS), a credentials URI, the ECS metadata service."""
