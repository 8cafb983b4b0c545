-- Operators: a user's role (travels in the access token's "role" claim, read from here
-- at each login and refresh), and the append-only audit trail of every admin action.
ALTER TABLE users ADD COLUMN role text NOT NULL DEFAULT 'user'
    CHECK (role IN ('user', 'admin'));

CREATE TABLE admin_audit (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor       text NOT NULL,          -- the admin's user id, or "cli:<os user>"
    action      text NOT NULL,          -- e.g. intake.pause, role.grant
    target      text NOT NULL,          -- what it acted on (a user, "intake", an entry)
    before      jsonb,
    after       jsonb,
    reason      text
);
CREATE INDEX admin_audit_at ON admin_audit (id DESC);

-- No API can change the trail: rows are only ever inserted.
CREATE FUNCTION admin_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'admin_audit is append-only';
END;
$$;
CREATE TRIGGER admin_audit_no_change BEFORE UPDATE OR DELETE ON admin_audit
    FOR EACH ROW EXECUTE FUNCTION admin_audit_append_only();
CREATE TRIGGER admin_audit_no_truncate BEFORE TRUNCATE ON admin_audit
    FOR EACH STATEMENT EXECUTE FUNCTION admin_audit_append_only();
