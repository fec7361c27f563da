-- The unread badge on every page counts a user's unread notifications: a partial index keeps
-- that to the unread rows, however many have been read.
CREATE INDEX notifications_unread ON notifications (user_id, created_at) WHERE read_at IS NULL;
