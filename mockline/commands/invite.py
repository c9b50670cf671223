"""``mockline invite``: create an interview plan and a candidate invitation; print the link and phone PIN."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command("invite")
    def invite(
        role: str = typer.Option(..., help='Role from the question bank, e.g. "backend engineer".'),
        name: str = typer.Option("", help="Candidate name (shown on the join page)."),
        email: str = typer.Option(None, help="Candidate e-mail (kept with the invitation)."),
        practice: bool = typer.Option(
            False, "--practice", help="Practice mode: a coaching report, no hiring."
        ),
        seniority: str = typer.Option("mid", help="junior | mid | senior"),
        interview_type: str = typer.Option("mixed", "--type", help="technical | behavioural | mixed"),
        questions: int = typer.Option(3, min=1, max=30, help="Number of planned questions."),
        minutes: int = typer.Option(15, min=1, max=180, help="Time limit in minutes."),
        difficulty: str = typer.Option("medium", help="easy | medium | hard"),
        valid_hours: float = typer.Option(72.0, min=0.1, help="How long the link works."),
    ) -> None:
        """Create a plan and an invitation, then print the candidate's link (and PIN for phone)."""
        from datetime import timedelta

        from agent.plans import PlanError, build_plan
        from mockline.settings import get_app_settings
        from storage import InterviewPlan, create_invitation, get_database, upgrade_to_head

        mode = "practice" if practice else "recruiter"
        try:
            spec = build_plan(
                role=role,
                seniority=seniority,
                interview_type=interview_type,
                question_count=questions,
                time_limit_minutes=minutes,
                difficulty=difficulty,
                mode=mode,
            ).to_json()
        except PlanError as e:
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(2) from e
        db = get_database()
        upgrade_to_head(db)
        with db.session() as s:
            plan = InterviewPlan.from_spec(spec, title=f"{'Practice: ' if practice else ''}{spec['role']}")
            s.add(plan)
            s.flush()
            new = create_invitation(
                s,
                plan_id=plan.id,
                org_id=None,
                candidate_name=name,
                candidate_email=email,
                mode=mode,
                valid_for=timedelta(hours=valid_hours),
            )
            token, pin = new.token, new.invitation.pin
        base = get_app_settings().base_url
        kind = "practice interview" if practice else "interview"
        typer.echo(f"{kind} for {spec['role']}: {spec['question_count']} questions")
        typer.echo(f"  link: {base}/i/{token}")
        typer.echo(f"  PIN:  {pin} (phone)")
        typer.echo(f"  valid for {valid_hours:g} hours; the link is shown only once")
