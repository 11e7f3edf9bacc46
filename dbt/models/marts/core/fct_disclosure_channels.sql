-- How the agency published: figures per channel stated in the text.
-- Built from narrative metrics named channel.<channel>.<metric> (ingest/channels.py).
-- Grain: report_id x channel x metric. When a report states several different figures for the same
-- channel and metric, the first in reading order is the row; the others stay in
-- fct_narrative_metrics and are counted in figures_stated.
{{
    config(
        materialized='incremental',
        incremental_strategy='ogi_report_replace',
        post_hook="{{ ogi_record_report_state() }}",
    )
}}

with

reports as (

    select * from {{ ref('dim_report') }}

    -- superseded editions stay in raw.* and dim_report only
    where
        is_current
        -- incremental build: the reports whose rows are replaced (every report on a full build)
        and {{ ogi_rebuilt('report_id') }}

),

narrative_facts as (

    select
        *,
        count(*) over (partition by report_id, metric) as figures_stated

    from {{ ref('stg_ogi__narrative_facts') }}

    where
        report_id in (select report_id from reports)
        and starts_with(metric, 'channel.')
        and len(string_split(metric, '.')) = 3

    qualify row_number() over (
        partition by report_id, metric
        order by
            try_cast(regexp_extract(locator, 'line ([0-9]+)', 1) as integer) asc nulls last,
            try_cast(regexp_extract(locator, 'sentence ([0-9]+)', 1) as integer) asc nulls last,
            try_cast(regexp_extract(locator, 'clause ([0-9]+)', 1) as integer) asc nulls last,
            value asc
    ) = 1

),

final as (

    select

        ---------- contract columns
        narrative_facts.report_id,
        reports.report_year,
        reports.agency_id,
        split_part(narrative_facts.metric, '.', 2) as channel,
        split_part(narrative_facts.metric, '.', 3) as metric,
        narrative_facts.value,
        coalesce(narrative_facts.qualifier <> 'exact', false)
            as is_approximate,
        narrative_facts.evidence,
        narrative_facts.locator,

        ---------- additions
        narrative_facts.qualifier,
        narrative_facts.unit_raw,
        narrative_facts.metric as narrative_metric,
        narrative_facts.figures_stated

    from narrative_facts

    inner join reports
        on narrative_facts.report_id = reports.report_id

)

select * from final
