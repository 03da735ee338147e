"""The bootstrap stack's template: one artifact bucket for code zips and large templates."""

from __future__ import annotations

from awacs.aws import Condition, Deny, PolicyDocument, Principal, Statement
from awacs.aws import Bool as BoolCondition
from awacs.s3 import Action as S3Action
from troposphere import GetAtt, Output, Ref, Sub, Template
from troposphere.s3 import (
    AbortIncompleteMultipartUpload,
    Bucket,
    BucketEncryption,
    BucketPolicy,
    LifecycleConfiguration,
    LifecycleRule,
    NoncurrentVersionExpiration,
    OwnershipControls,
    OwnershipControlsRule,
    PublicAccessBlockConfiguration,
    ServerSideEncryptionByDefault,
    ServerSideEncryptionRule,
    VersioningConfiguration,
)

BUCKET_LOGICAL_ID = "ArtifactBucket"
BUCKET_OUTPUT = "ArtifactBucketName"
# Old versions of an artifact are only needed to roll back to a recent deploy.
NONCURRENT_VERSION_DAYS = 30


def artifact_bucket() -> Bucket:
    """Encrypted, versioned, private, owner-enforced; kept if the stack is deleted."""
    return Bucket(
        BUCKET_LOGICAL_ID,
        DeletionPolicy="Retain",
        UpdateReplacePolicy="Retain",
        BucketEncryption=BucketEncryption(
            ServerSideEncryptionConfiguration=[
                ServerSideEncryptionRule(
                    ServerSideEncryptionByDefault=ServerSideEncryptionByDefault(
                        SSEAlgorithm="AES256"
                    ),
                    BucketKeyEnabled=True,
                )
            ]
        ),
        VersioningConfiguration=VersioningConfiguration(Status="Enabled"),
        LifecycleConfiguration=LifecycleConfiguration(
            Rules=[
                LifecycleRule(
                    Id="ExpireOldVersions",
                    Status="Enabled",
                    NoncurrentVersionExpiration=NoncurrentVersionExpiration(
                        NoncurrentDays=NONCURRENT_VERSION_DAYS
                    ),
                    AbortIncompleteMultipartUpload=AbortIncompleteMultipartUpload(
                        DaysAfterInitiation=7
                    ),
                )
            ]
        ),
        PublicAccessBlockConfiguration=PublicAccessBlockConfiguration(
            BlockPublicAcls=True,
            BlockPublicPolicy=True,
            IgnorePublicAcls=True,
            RestrictPublicBuckets=True,
        ),
        OwnershipControls=OwnershipControls(
            Rules=[OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]
        ),
    )


def tls_only_policy(bucket: Bucket) -> BucketPolicy:
    """Deny every request to the bucket or its objects that does not use TLS."""
    bucket_arn = GetAtt(bucket, "Arn")
    return BucketPolicy(
        "ArtifactBucketPolicy",
        Bucket=Ref(bucket),
        PolicyDocument=PolicyDocument(
            Version="2012-10-17",
            Statement=[
                Statement(
                    Sid="DenyInsecureTransport",
                    Effect=Deny,
                    Principal=Principal("*"),
                    Action=[S3Action("*")],
                    Resource=[bucket_arn, Sub("${%s.Arn}/*" % bucket.title)],
                    Condition=Condition(BoolCondition("aws:SecureTransport", "false")),
                )
            ],
        ),
    )


def build_bootstrap_template() -> Template:
    """The bootstrap stack: the artifact bucket, its TLS-only policy, its name as an output."""
    template = Template(Description="Artifact bucket for the logistics-tracking deploys")
    bucket = template.add_resource(artifact_bucket())
    template.add_resource(tls_only_policy(bucket))
    template.add_output(
        Output(BUCKET_OUTPUT, Description="Bucket for code zips and templates", Value=Ref(bucket))
    )
    return template
