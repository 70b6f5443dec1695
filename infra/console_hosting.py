"""The web console in the deployed template: its files in a private S3 bucket, served by CloudFront through an
origin access control (the bucket takes reads from that distribution only). `make deploy-console` uploads
console/ and a config.json naming the API's address; the API must allow the console's origin
(HERALD_CORS_ORIGINS, the ConsoleUrl output). The local stack serves the same files itself
(infra/local/console_files.py)."""
from __future__ import annotations

from typing import Any

from chalicelib.core.settings import resource_name

CONSOLE_BUCKET = "ConsoleBucket"
CONSOLE_DISTRIBUTION = "ConsoleDistribution"
CONSOLE_ACCESS = "ConsoleOriginAccessControl"
CONSOLE_HEADERS = "ConsoleResponseHeaders"
# AWS managed cache policy "CachingOptimized".
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
          "connect-src *; frame-src 'self' blob: data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


def _bucket(stage: str) -> dict[str, Any]:
    return {"Type": "AWS::S3::Bucket", "Properties": {
        "BucketName": resource_name(stage, "console"),
        "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                           "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
        "BucketEncryption": {"ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
    }}


def _bucket_policy() -> dict[str, Any]:
    """Reads by this stack's distribution only (the SourceArn condition), nothing else."""
    return {"Type": "AWS::S3::BucketPolicy", "Properties": {
        "Bucket": {"Ref": CONSOLE_BUCKET},
        "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
            "Sid": "CloudFrontReadsTheConsole", "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:GetObject",
            "Resource": {"Fn::Sub": "${" + CONSOLE_BUCKET + ".Arn}/*"},
            "Condition": {"StringEquals": {"AWS:SourceArn": {"Fn::Sub":
                "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${" + CONSOLE_DISTRIBUTION + "}"}}},
        }]},
    }}


def _headers(stage: str) -> dict[str, Any]:
    return {"Type": "AWS::CloudFront::ResponseHeadersPolicy", "Properties": {"ResponseHeadersPolicyConfig": {
        "Name": resource_name(stage, "console-headers"),
        "SecurityHeadersConfig": {
            "ContentSecurityPolicy": {"ContentSecurityPolicy": POLICY, "Override": True},
            "ContentTypeOptions": {"Override": True},
            "FrameOptions": {"FrameOption": "DENY", "Override": True},
            "ReferrerPolicy": {"ReferrerPolicy": "no-referrer", "Override": True},
            "StrictTransportSecurity": {"AccessControlMaxAgeSec": 63072000, "IncludeSubdomains": True,
                                        "Override": True},
        },
    }}}


def _distribution(stage: str) -> dict[str, Any]:
    return {"Type": "AWS::CloudFront::Distribution", "Properties": {"DistributionConfig": {
        "Comment": f"Herald web console ({stage})",
        "Enabled": True,
        "DefaultRootObject": "index.html",
        "HttpVersion": "http2",
        "PriceClass": "PriceClass_100",
        "Origins": [{"Id": "console", "DomainName": {"Fn::GetAtt": [CONSOLE_BUCKET, "RegionalDomainName"]},
                     "OriginAccessControlId": {"Fn::GetAtt": [CONSOLE_ACCESS, "Id"]},
                     "S3OriginConfig": {"OriginAccessIdentity": ""}}],
        "DefaultCacheBehavior": {"TargetOriginId": "console", "ViewerProtocolPolicy": "redirect-to-https",
                                 "AllowedMethods": ["GET", "HEAD"], "Compress": True,
                                 "CachePolicyId": CACHING_OPTIMIZED,
                                 "ResponseHeadersPolicyId": {"Ref": CONSOLE_HEADERS}},
    }}}


def console_resources(stage: str) -> dict[str, Any]:
    bucket = _bucket(stage)
    bucket["DeletionPolicy"] = bucket["UpdateReplacePolicy"] = "Retain" if stage == "prod" else "Delete"
    return {
        CONSOLE_BUCKET: bucket,
        "ConsoleBucketPolicy": _bucket_policy(),
        CONSOLE_ACCESS: {"Type": "AWS::CloudFront::OriginAccessControl", "Properties": {
            "OriginAccessControlConfig": {"Name": resource_name(stage, "console"),
                                          "OriginAccessControlOriginType": "s3", "SigningBehavior": "always",
                                          "SigningProtocol": "sigv4"}}},
        CONSOLE_HEADERS: _headers(stage),
        CONSOLE_DISTRIBUTION: _distribution(stage),
    }


def console_url() -> dict[str, Any]:
    """The console's address, `https://<the distribution's domain>`: the ConsoleUrl output, and HERALD_CONSOLE_URL
    of every function (the links emails carry open the console there)."""
    return {"Fn::Sub": "https://${" + CONSOLE_DISTRIBUTION + ".DomainName}"}


def console_outputs() -> dict[str, Any]:
    return {"ConsoleBucketName": {"Value": {"Ref": CONSOLE_BUCKET}},
            "ConsoleDistributionId": {"Value": {"Ref": CONSOLE_DISTRIBUTION}},
            "ConsoleUrl": {"Value": console_url()}}
