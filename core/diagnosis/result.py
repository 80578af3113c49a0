"""What a diagnosis returns: the verdict, its evidence and the advice, ready for JSON and the run store."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Recommendation:
    knob: str  # a Hyperparameters field
    action: str  # increase, decrease, enable, disable, set
    value: Any  # the concrete new value (None when the current value is unknown)
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Recommendation:
        return cls(str(values["knob"]), str(values["action"]), values.get("value"), str(values["reason"]))


@dataclass
class Diagnosis:
    verdict: str  # one of VERDICTS
    summary: str  # one sentence saying what was found and what was checked
    evidence: list[str]
    recommendations: list[Recommendation]
    secondary: list[str] = field(default_factory=list)  # other verdicts whose signs are present
    title: str = ""  # the rule's heading ("Underfitting: no better than a linear model"); "" = the verdict's own
    severity: str = ""  # error, warning or success; "" = the verdict's own
    inside: list[dict[str, Any]] = field(default_factory=list)  # training-dynamics findings (core.diagnosis.dynamics)

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "title": self.title,
            "severity": self.severity,
            "summary": self.summary,
            "evidence": list(self.evidence),
            "recommendations": [r.to_dict() for r in self.recommendations],
            "secondary": list(self.secondary),
            "inside": [dict(f) for f in self.inside],
        }

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Diagnosis:
        """The inverse of to_dict (a diagnosis read back from the run store; older ones have no title)."""
        return cls(
            verdict=str(values["verdict"]),
            summary=str(values["summary"]),
            evidence=[str(line) for line in values.get("evidence", [])],
            recommendations=[Recommendation.from_dict(r) for r in values.get("recommendations", [])],
            secondary=[str(v) for v in values.get("secondary", [])],
            title=str(values.get("title") or ""),
            severity=str(values.get("severity") or ""),
            inside=[dict(f) for f in values.get("inside", [])],
        )
