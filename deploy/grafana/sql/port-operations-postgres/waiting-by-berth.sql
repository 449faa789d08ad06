-- Per berth, the calls served in the time range: how many, and their
-- waiting and service times (median, 90th percentile; seconds).
SELECT berth,
       count(*) AS calls,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY waiting_time_s) AS waiting_p50_s,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY waiting_time_s) AS waiting_p90_s,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY service_time_s) AS service_p50_s,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY service_time_s) AS service_p90_s,
       sum(teu_loaded + teu_discharged) AS teu
FROM port_calls
WHERE berth IS NOT NULL
  AND $__timeFilter(berthed_at)
GROUP BY berth
ORDER BY calls DESC, berth
