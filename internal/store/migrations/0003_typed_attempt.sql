-- The controller's record of a job run's current attempt becomes a typed document
-- (jobs.Attempt) in the same column. Before, it was a map of strings:
--   {"attempt": "2", "submitted": "true", "driverPod": "ns/name",
--    "submittedAt": "<RFC 3339>", "runningAt": "<RFC 3339>", "cleanedUp": "true"}
-- A retry cleared "submitted" but kept the previous attempt's "driverPod", so the pod is
-- carried over only while "submitted" is "true". json_patch onto '{}' drops the members whose
-- value is NULL, as the typed document omits empty fields.
UPDATE job_runs SET extensions = json_patch('{}', json_object(
    'number', CAST(json_extract(extensions, '$.attempt') AS INTEGER),
    'namespace', CASE WHEN json_extract(extensions, '$.submitted') = 'true' AND instr(json_extract(extensions, '$.driverPod'), '/') > 0
        THEN substr(json_extract(extensions, '$.driverPod'), 1, instr(json_extract(extensions, '$.driverPod'), '/') - 1) END,
    'driverPod', CASE WHEN json_extract(extensions, '$.submitted') = 'true'
        THEN substr(json_extract(extensions, '$.driverPod'), instr(json_extract(extensions, '$.driverPod'), '/') + 1) END,
    'submittedAt', json_extract(extensions, '$.submittedAt'),
    'runningAt', json_extract(extensions, '$.runningAt'),
    'cleanedUp', CASE WHEN json_extract(extensions, '$.cleanedUp') = 'true' THEN json('true') END))
WHERE extensions IS NOT NULL AND json_type(extensions, '$.number') IS NULL;
