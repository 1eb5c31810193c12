"""A local emulator of SageMaker and the AWS services the platform uses, driven by what `cdk synth` wrote.

It knows the app only through its cloud assembly (`cdk.out`): it resolves the templates'
intrinsics, creates what they declare in a moto server on 127.0.0.1, runs the synthesized
pipeline definitions step by step (processing and training jobs as local processes, Lambda
steps with the synthesized functions' code), deploys endpoint stacks, and evaluates alarms.
Nothing here reads the app's config or imports stacks, release or the demo (import-linter checks).
"""
