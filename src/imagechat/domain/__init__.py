"""Pure rules of imagechat: models, validation, permissions, events, SSO and tokens. No I/O."""
