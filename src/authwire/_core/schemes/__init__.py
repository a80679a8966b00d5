"""HTTP authentication schemes as flows over the user's request.

Strictly private. Each scheme yields ``Attempt``s (credentials to attach) and receives the
server's responses, answering challenges (a 401) in as many legs as it needs.
"""
