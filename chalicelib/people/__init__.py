"""People: users who sign in (Amazon Cognito), their memberships of workspaces and agencies, invitations,
API keys over HTTP, and agency-wide reads across client workspaces."""
