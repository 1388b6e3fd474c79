"""The HTTP edge the functions share: RFC 9457 problem+json documents (`problem_json`) and the one mapping
of domain errors to them (`problems`), used by the booking API's error handlers and by the webhooks
function alike."""
