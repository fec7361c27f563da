-- The notification's subject in English alone, for pages shown in English (the bilingual
-- subject stays for mail and Japanese pages). Older rows have none and show the bilingual one.
ALTER TABLE notifications ADD COLUMN subject_en TEXT;
