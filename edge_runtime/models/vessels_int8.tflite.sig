{
 "statement": {
  "model_sha256": "72fd5b74bfb1494e9a7ba7e75a0b4b4d0d4b14bf5937ba9c4cf8534af0b2b12f",
  "model_version": "1.1.0",
  "gate_passed": true,
  "format": 1
 },
 "key_id": "5c744115c4f07af0",
 "signature": "rSIpX5FpHz6U+f94MqqyEu0E9kiKj6pHvTqmq/+elmy4BCx6Pn9c0RrSnNZtmkAnwMEW2NECx4UG28kCNzzsBw==",
 "algorithm": "ed25519"
}
