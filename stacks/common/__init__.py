"""What several concerns share: cdk-nag acknowledgements, dead-letter queues, the job boundary's
IAM conditions, the Scheduler role, the XGBoost image table and the resources every stack is
handed (:mod:`stacks.common.shared`). Nothing here imports another package of ``stacks``."""
