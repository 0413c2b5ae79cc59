"""The pure domain core: no boto3, no pynamodb, no chalice. Tested without mocks."""
