# curl with something that is not a URL.
curl 'http://'
