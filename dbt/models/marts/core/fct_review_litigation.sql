-- 表四: administrative reviews and lawsuits about information disclosure.
-- Grain: report_id x proceeding x result x source.
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

table_cells as (

    select * from {{ ref('stg_ogi__table_cells') }}

    where
        table_id = 't4'
        and report_id in (select report_id from reports)

),

narrative_facts as (

    select * from {{ ref('stg_ogi__narrative_facts') }}

    where
        report_id in (select report_id from reports)
        and metric in ('admin_review_total', 'admin_litigation_total')

),

table_rows as (

    select
        report_id,
        template_version,
        row_key as proceeding,
        col_key as result,
        value,
        cell_state,
        raw_text,
        coalesce(is_derived, false) as is_derived,
        false as is_approximate,
        'table' as source,
        locator

    from table_cells

),

narrative_rows as (

    select
        narrative_facts.report_id,
        reports.template_version,
        case narrative_facts.metric
            when 'admin_review_total' then 'administrative_review'
            -- the text rarely splits suits with and without a prior review
            when 'admin_litigation_total' then 'litigation_all'
        end as proceeding,
        'total' as result,
        narrative_facts.value,
        case
            when narrative_facts.value is null then 'text' else 'number'
        end as cell_state,
        case
            when narrative_facts.value = floor(narrative_facts.value)
                then cast(cast(narrative_facts.value as bigint) as varchar)
            else cast(narrative_facts.value as varchar)
        end as raw_text,
        false as is_derived,
        coalesce(narrative_facts.qualifier <> 'exact', false)
            as is_approximate,
        'narrative' as source,
        narrative_facts.locator

    from narrative_facts

    inner join reports
        on narrative_facts.report_id = reports.report_id

    -- one figure per cell: a report with a 表四 (flagged, or with any cell) keeps its narrative
    -- figures in fct_narrative_metrics only, where the narrative-vs-table rules read them
    where
        not coalesce(reports.has_t3, false)
        and not exists (
            select 1
            from table_cells
            where table_cells.report_id = narrative_facts.report_id
        )

    -- a metric stated twice in one report: keep the first statement
    qualify row_number() over (
        partition by narrative_facts.report_id, narrative_facts.metric
        order by
            try_cast(
                regexp_extract(narrative_facts.locator, '[0-9]+') as integer
            ) asc nulls last,
            narrative_facts.locator asc,
            narrative_facts.value asc
    ) = 1

),

unioned as (

    select * from table_rows
    union all
    select * from narrative_rows

),

final as (

    select

        ---------- contract columns
        unioned.report_id,
        reports.report_year,
        reports.agency_id,
        unioned.template_version,
        unioned.proceeding,
        unioned.result,
        cast(unioned.value as bigint) as value,
        unioned.cell_state,
        unioned.raw_text,
        unioned.source,
        unioned.locator,

        ---------- additions
        unioned.is_derived,
        unioned.is_approximate,
        -- issue 13: the OCR recognition score the front end put in the locator; NULL for printed text
        {{ ogi_locator_ocr_confidence('unioned.locator') }} as ocr_confidence

    from unioned

    inner join reports
        on unioned.report_id = reports.report_id

)

select * from final
