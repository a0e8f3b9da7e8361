{
 "statement": {
  "model_sha256": "ebf1e00e027e45a6c697db4004a5e195c7520b535d7ca113493058e14cdaf5dd",
  "model_version": "1.0.0-rc2",
  "gate_passed": true,
  "format": 1
 },
 "key_id": "5c744115c4f07af0",
 "signature": "+EiYJx7f1aiqGcVcJ7h89qd/uuE+WsUxH4S9dpKo+6CfK5vYqq1SGDDSzsSWe4xxetlMgO4pZG6XqZmNWV+UDQ==",
 "algorithm": "ed25519"
}
