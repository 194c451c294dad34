# logs with no pod.
logs
