"""Local stand-ins for the outside services the product calls (meeting providers), each a real HTTP
server speaking its provider's wire format: paths, auth, JSON fields, error bodies and 429s."""
