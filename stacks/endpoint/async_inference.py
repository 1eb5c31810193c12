"""Asynchronous inference of one stage: where requests and results live, and who is told.

A caller uploads the payload under ``async-inference/<endpoint>/input/`` and calls
``InvokeEndpointAsync``; SageMaker queues it, and the model's answer lands under ``output/``
(``<inference id>.out``), an error under ``failures/``, both encrypted with the data key, and a
message goes to the success or error topic. The two topics are encrypted with the data key too,
TLS-only, and only the model's execution role (which SageMaker publishes as) may publish to them.
Scaling on the queue, down to zero, is :mod:`stacks.endpoint.async_scaling`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from constructs import Construct

from contracts import layout
from contracts.config import AsyncConfig
from stacks.endpoint.create_only import at_synth

#: Folders under ``async-inference/<endpoint>/``: the callers' payloads, the answers, the errors.
INPUT_FOLDER: Final = layout.ASYNC_INPUT_FOLDER
OUTPUT_FOLDER: Final = layout.ASYNC_OUTPUT_FOLDER
FAILURE_FOLDER: Final = layout.ASYNC_FAILURE_FOLDER
async_prefix = layout.async_folder


@dataclass(frozen=True, kw_only=True)
class AsyncIo:
    """What the model's role needs for async: its prefixes and the topics it publishes to."""

    endpoint_name: str
    topic_arns: tuple[str, str]

    @property
    def reads(self) -> str:
        return async_prefix(self.endpoint_name, INPUT_FOLDER)

    @property
    def writes(self) -> tuple[str, str]:
        return async_prefix(self.endpoint_name, OUTPUT_FOLDER), async_prefix(
            self.endpoint_name, FAILURE_FOLDER
        )


class AsyncTopics(Construct):
    """``success`` and ``error``: the stage's notification topics (data key, TLS only)."""

    def __init__(self, scope: Construct, construct_id: str, *, endpoint_name: str, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self.success, self.error = (
            sns.Topic(
                self,
                name,
                master_key=key,
                enforce_ssl=True,
                display_name=f"{endpoint_name} async inference {name.lower()}",
            )
            for name in ("Success", "Error")
        )

    def io(self, endpoint_name: str) -> AsyncIo:
        return AsyncIo(endpoint_name=endpoint_name, topic_arns=(self.success.topic_arn, self.error.topic_arn))

    def publish_only_as(self, role: iam.IRole) -> None:
        """Deny every other principal ``sns:Publish`` (the role's own policy grants it)."""
        for topic in (self.success, self.error):
            topic.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="OnlyTheModelPublishes",
                    effect=iam.Effect.DENY,
                    principals=[iam.AnyPrincipal()],
                    actions=["sns:Publish"],
                    resources=[topic.topic_arn],
                    conditions={"ArnNotEquals": {"aws:PrincipalArn": role.role_arn}},
                )
            )


def async_config(
    queued: AsyncConfig, endpoint_name: str, bucket: s3.IBucket, key: kms.IKey, topics: AsyncTopics
) -> sagemaker.CfnEndpointConfig.AsyncInferenceConfigProperty:
    """The endpoint config's ``AsyncInferenceConfig``."""
    cfn = sagemaker.CfnEndpointConfig
    return cfn.AsyncInferenceConfigProperty(
        output_config=cfn.AsyncInferenceOutputConfigProperty(
            s3_output_path=_uri(bucket.bucket_name, endpoint_name, OUTPUT_FOLDER),
            s3_failure_path=_uri(bucket.bucket_name, endpoint_name, FAILURE_FOLDER),
            kms_key_id=key.key_arn,
            notification_config=cfn.AsyncInferenceNotificationConfigProperty(
                success_topic=topics.success.topic_arn, error_topic=topics.error.topic_arn
            ),
        ),
        client_config=cfn.AsyncInferenceClientConfigProperty(
            max_concurrent_invocations_per_instance=queued.max_concurrent_invocations_per_instance
        ),
    )


def async_config_values(
    queued: AsyncConfig, endpoint_name: str, bucket: s3.IBucket, key: kms.IKey, topics: AsyncTopics
) -> dict[str, object]:
    """What :func:`async_config` renders, in CloudFormation's names (for the fingerprint)."""
    name = at_synth(bucket.bucket_name, bucket, "BucketName")
    return {
        "OutputConfig": {
            "S3OutputPath": _uri(name, endpoint_name, OUTPUT_FOLDER),
            "S3FailurePath": _uri(name, endpoint_name, FAILURE_FOLDER),
            "KmsKeyId": at_synth(key.key_arn, key, "Arn"),
            "NotificationConfig": {
                "SuccessTopic": at_synth(topics.success.topic_arn, topics.success, "TopicArn"),
                "ErrorTopic": at_synth(topics.error.topic_arn, topics.error, "TopicArn"),
            },
        },
        "ClientConfig": {
            "MaxConcurrentInvocationsPerInstance": queued.max_concurrent_invocations_per_instance
        },
    }


def _uri(bucket_name: str, endpoint_name: str, folder: str) -> str:
    return f"s3://{bucket_name}/{async_prefix(endpoint_name, folder)}"
