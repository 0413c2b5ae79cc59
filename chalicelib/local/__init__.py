"""The local stack: never deployed. moto in server mode, provisioned from infra/resources.yaml."""
