-- kyoyu schema, version 7. Exercise (訓練・演習) chains: numbered in their own series (E…) and
-- left out of statistics (domain.md §6, §12).
ALTER TABLE chains ADD COLUMN exercise BOOLEAN NOT NULL DEFAULT FALSE;
