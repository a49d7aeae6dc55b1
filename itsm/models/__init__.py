from .attachment import Attachment
from .audit import AuditEntry
from .cmdb import Host, HostGroup, HostGroupDependency, ServiceTier
from .organisation import AssignmentGroup, GroupMembership, Organisation, SlaDefinition
from .task import TaskState, WorkTask
from .users import User, UserRole
from .views import SavedView
from .work import NumberSequence, Priority, Work, WorkKind

__all__ = [
    "AssignmentGroup",
    "Attachment",
    "AuditEntry",
    "GroupMembership",
    "Host",
    "HostGroup",
    "HostGroupDependency",
    "NumberSequence",
    "Organisation",
    "Priority",
    "SavedView",
    "ServiceTier",
    "SlaDefinition",
    "TaskState",
    "User",
    "UserRole",
    "Work",
    "WorkKind",
    "WorkTask",
]
