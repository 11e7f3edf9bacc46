{#-
    Incremental marts by report (README "Incremental marts").

    A large fact mart is rebuilt only for the reports whose inputs changed. What a report's rows
    depend on is digested in a per-report fingerprint (dim_report.report_fingerprint: its whole
    dim_report row, when its content was last loaded into raw.*, how many parse warnings it has;
    fct_rule_results and rpt_report_audit also digest the report's raw.rule_results rows). After
    each build a model's post-hook stores the fingerprints it was built from in
    mart_state.<model> (a schema the serving copy drops, so `marts` holds the contract's tables
    only). The next build compares the two in SQL:

      changed = fingerprint new, different, or gone (forgotten with `ogi forget`)

    and the strategy `ogi_report_replace` deletes the mart's rows of every changed report, then
    inserts the rows the model selects for the changed reports that are current. A report that
    became non-current (superseded), was re-parsed or was forgotten therefore loses or replaces its
    rows; the result equals a full build over the same raw tables (tests/integration/test_incremental_marts.py).
    A full build (`--full-refresh`, passed by dagster_project/defs/dbt_assets.py when the code version
    changed or a mart is missing) rebuilds everything and rewrites the state.

    Rows whose report_id is NULL or not in dim_report (none today; fct_parse_warnings keeps them by a
    left join) are rebuilt by every incremental build.
-#}

{% macro ogi_state_schema() -%}mart_state{%- endmacro %}

{#- A relation by its literal name: data tests and hooks may read models they do not depend on. -#}
{% macro ogi_literal(schema, name) -%}"{{ target.database }}"."{{ schema }}"."{{ name }}"{%- endmacro %}

{% macro ogi_state_relation(name=none) -%}
    "{{ this.database }}"."{{ ogi_state_schema() }}"."{{ name or this.identifier }}"
{%- endmacro %}

{#- The marts built incrementally by report (their tests are scoped to the rebuilt reports). -#}
{% macro ogi_incremental_marts() -%}
    {{ return([
        'fct_applications', 'fct_review_litigation', 'fct_proactive_disclosure', 'fct_narrative_metrics',
        'fct_disclosure_channels', 'fct_parse_warnings', 'fct_rule_results', 'rpt_report_audit',
    ]) }}
{%- endmacro %}

{#- (report_id, fingerprint) of every report in dim_report, as the model `name` depends on it. -#}
{% macro ogi_report_fingerprints(name=none, literal=false) -%}
    {%- set name = name or this.identifier -%}
    {#- a ref() rendered at parse time is a dependency: only the rule marts ref the rule results -#}
    {%- set dim_report = ogi_literal('marts', 'dim_report') if literal else ref('dim_report') -%}
    {%- if name in ('fct_rule_results', 'rpt_report_audit') -%}
    {%- set rule_results = ogi_literal('staging', 'stg_ogi__rule_results') if literal else ref('stg_ogi__rule_results') -%}
    select
        reports.report_id,
        md5(reports.report_fingerprint || '|' || coalesce(results.results_digest, '')) as fingerprint
    from {{ dim_report }} as reports
    left join (
        {%- if execute and ogi_rule_results_digest_is_fresh() %}
        select report_id, results_digest from {{ ogi_rule_results_digest_relation() }}
        {%- else %}
        {{ ogi_rule_results_digest(rule_results) }}
        {%- endif %}
    ) as results
        on reports.report_id = results.report_id
    {%- else -%}
    select report_id, report_fingerprint as fingerprint from {{ dim_report }}
    {%- endif -%}
{%- endmacro %}

{#- Per report, a digest of its rule results: what a rule mart's rows depend on besides dim_report. -#}
{% macro ogi_rule_results_digest(rule_results) -%}
        select
            report_id,
            count(*)::varchar || ':' || bit_xor(
                hash(rule_id, identity_id, rule_family, severity, status, lhs, rhs, detail, expectation)
            )::varchar as results_digest
        from {{ rule_results }}
        group by report_id
{%- endmacro %}

{% macro ogi_rule_results_digest_relation() -%}
    "{{ target.database }}"."{{ ogi_state_schema() }}"."rule_results_digest"
{%- endmacro %}

{#-
    on-run-start of an invocation that builds a rule mart: the rule results' digest computed once. The
    rule marts' models, strategies, post-hooks and test scopes read it about seven times an invocation
    (a group over every rule result: 6.5 million rows at 100,000 reports); raw.rule_results does not
    change while dbt runs. Marked with the invocation, like the rebuilt rows: an older one is not read.
-#}
{% macro ogi_digest_rule_results() -%}
    {%- if execute -%}
        {%- set builds_rule_mart = 'model.ogi.fct_rule_results' in selected_resources
            or 'model.ogi.rpt_report_audit' in selected_resources -%}
        {#- read from the raw table, whose columns have the staging view's types: the view may not
            exist yet, or (in a copied warehouse) still name the file it was built in -#}
        {%- if builds_rule_mart and ogi_table_exists('raw', 'rule_results') %}
    create or replace table {{ ogi_rule_results_digest_relation() }} as
    {{ ogi_rule_results_digest(ogi_literal('raw', 'rule_results')) }};
    comment on table {{ ogi_rule_results_digest_relation() }} is '{{ invocation_id }}'
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{% macro ogi_rule_results_digest_is_fresh() -%}
    {{ return(ogi_table_exists(ogi_state_schema(), 'rule_results_digest', marked_by=invocation_id)) }}
{%- endmacro %}

{#- Whether table `schema`.`name` of the warehouse exists (with the comment `marked_by`, when given:
    the state tables an invocation writes for itself carry its id). -#}
{% macro ogi_table_exists(schema, name, marked_by=none) -%}
    {%- set found = run_query(
        "select count(*) from duckdb_tables() where database_name = '" ~ target.database
        ~ "' and schema_name = '" ~ schema ~ "' and table_name = '" ~ name ~ "'"
        ~ ((" and comment = '" ~ marked_by ~ "'") if marked_by else "")
    ) -%}
    {{ return(found.columns[0].values()[0] > 0) }}
{%- endmacro %}

{#- The reports whose rows in mart `name` must be replaced: new, changed or gone since its last build. -#}
{% macro ogi_changed_reports(name=none, literal=false) -%}
    select coalesce(current_state.report_id, built.report_id) as report_id
    from ({{ ogi_report_fingerprints(name, literal) }}) as current_state
    full outer join {{ ogi_state_relation(name) }} as built
        on current_state.report_id = built.report_id
    where
        built.report_id is null
        or current_state.report_id is null
        or built.fingerprint <> current_state.fingerprint
{%- endmacro %}

{#- In a model: true on a full build; on an incremental one, the rows of the reports to rebuild. -#}
{#- (A mart without a state, e.g. built before incremental marts, is rebuilt whole.) -#}
{% macro ogi_rebuilt(column='report_id') -%}
    {%- if is_incremental() and ogi_state_exists() -%}
    ({{ column }} in ({{ ogi_changed_reports() }})
        or {{ column }} is null
        or {{ column }} not in (select report_id from {{ ref('dim_report') }}))
    {%- else -%}
    true
    {%- endif -%}
{%- endmacro %}

{#- Custom incremental strategy: replace the rows of the changed reports. -#}
{% macro get_incremental_ogi_report_replace_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set columns = arg_dict['dest_columns'] | map(attribute='quoted') | join(', ') -%}
    {#- the rows about to be inserted, kept for this invocation's data tests of the mart: a test then
        reads these few rows instead of filtering the whole mart by report (get_where_subquery) -#}
    create or replace table {{ ogi_rebuilt_rows_relation(target.identifier) }} as
    select {{ columns }} from {{ arg_dict['temp_relation'] }};
    comment on table {{ ogi_rebuilt_rows_relation(target.identifier) }} is '{{ invocation_id }}';
    delete from {{ target }}
    {%- if ogi_state_exists(target.identifier) %}
    where
        report_id in ({{ ogi_changed_reports(target.identifier) }})
        or report_id is null
        or report_id not in (select report_id from {{ ref('dim_report') }})
    {%- endif -%};
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ ogi_rebuilt_rows_relation(target.identifier) }}
{%- endmacro %}

{#- The rows an incremental build of mart `name` inserted, with the invocation that inserted them. -#}
{% macro ogi_rebuilt_rows_relation(name) -%}
    "{{ target.database }}"."{{ ogi_state_schema() }}"."{{ name }}__rebuilt_rows"
{%- endmacro %}

{% macro ogi_state_exists(name=none) -%}
    {%- if not execute -%}{{ return(false) }}{%- endif -%}
    {{ return(ogi_table_exists(ogi_state_schema(), name or this.identifier)) }}
{%- endmacro %}

{#-
    Post-hook of every incremental mart: the fingerprints it now holds, and which reports this
    invocation rebuilt (every one on a full build); mart_state.builds says how each mart was last
    built. Inside the model's transaction: the rows and their state commit together. An incremental
    build rewrites the state of the changed reports only (a report gone, or whose fingerprint
    changed, loses its row; a new or changed one gets this invocation's): rewriting every report's
    row cost about 0.1 s a mart at 100,000 reports, and as much again when the warehouse checkpoints.
-#}
{% macro ogi_record_report_state() -%}
    {%- set incremental = ogi_state_exists() and not should_full_refresh() -%}
    {% if incremental -%}
    delete from {{ ogi_state_relation() }} as built
    where not exists (
        select 1 from ({{ ogi_report_fingerprints() }}) as current_state
        where current_state.report_id = built.report_id and current_state.fingerprint = built.fingerprint
    );
    insert into {{ ogi_state_relation() }} (report_id, fingerprint, invocation_id)
    select current_state.report_id, current_state.fingerprint, '{{ invocation_id }}'
    from ({{ ogi_report_fingerprints() }}) as current_state
    where not exists (
        select 1 from {{ ogi_state_relation() }} as built where built.report_id = current_state.report_id
    )
    {%- else -%}
    create or replace table {{ ogi_state_relation() }} as
    select report_id, fingerprint, '{{ invocation_id }}' as invocation_id
    from ({{ ogi_report_fingerprints() }}) as current_state
    {%- endif %};
    delete from "{{ this.database }}"."{{ ogi_state_schema() }}"."builds" where model = '{{ this.identifier }}';
    insert into "{{ this.database }}"."{{ ogi_state_schema() }}"."builds"
    values ('{{ this.identifier }}', '{{ invocation_id }}', '{{ "incremental" if incremental else "full" }}', now())
{%- endmacro %}

{#-
    Data tests of the incremental marts carry `where: __ogi_rebuilt_reports__` (dbt_project.yml).
    In the dbt invocation that built a mart incrementally they test the rebuilt reports' rows only
    (the rest were tested when they were built, and have not changed), read from the copy of the
    inserted rows the strategy keeps until the invocation ends (+1,000 reports into 100,000: the 18
    tests of fct_applications took 9 s of dbt thread time filtering its 11.5 million rows by report,
    under 3 s reading the copy on a busier machine);
    after a full build, in any other invocation (`dbt test` by hand) and on every other model, they
    test every row.
-#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where == '__ogi_rebuilt_reports__' -%}
        {%- set where = '' -%}
        {%- if execute and relation.identifier in ogi_scoped_staging()
              and (model.test_metadata or {}).get('name') in ('unique', 'unique_combination_of_columns') -%}
            {%- set where = ogi_staging_test_scope(relation.identifier) -%}
        {%- elif execute and not flags.FULL_REFRESH and relation.identifier in ogi_incremental_marts() -%}
            {#- the rows this invocation inserted, kept by the strategy and marked with the invocation:
                exactly the mart's rows of the rebuilt reports (all its rows when it had no state yet) -#}
            {%- if ogi_table_exists(ogi_state_schema(), relation.identifier ~ '__rebuilt_rows', marked_by=invocation_id) -%}
                {%- do return("(select * from " ~ ogi_rebuilt_rows_relation(relation.identifier) ~ ") dbt_subquery") -%}
            {%- endif -%}
            {#- otherwise (the mart created whole in this invocation) the reports its state marks -#}
            {%- set state = '"' ~ relation.database ~ '"."' ~ ogi_state_schema() ~ '"' -%}
            {%- if ogi_table_exists(ogi_state_schema(), 'builds') -%}
                {%- set mode = run_query(
                    "select count(*) from " ~ state ~ ".builds where model = '" ~ relation.identifier
                    ~ "' and invocation_id = '" ~ invocation_id ~ "' and mode = 'incremental'"
                ) -%}
                {%- if mode.columns[0].values()[0] > 0 -%}
                    {%- set where = "report_id is null or report_id in (select report_id from " ~ state ~ '."'
                        ~ relation.identifier ~ "\" where invocation_id = '" ~ invocation_id ~ "')" -%}
                {%- endif -%}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
    {%- if where -%}
        {%- do return("(select * from " ~ relation ~ " where " ~ where ~ ") dbt_subquery") -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{#-
    on-run-start: the state schema and its `builds` log exist before any model runs. Created here
    rather than in each post-hook: with several dbt threads two post-hooks creating the same table
    at once would conflict in DuckDB's catalog.
-#}
{% macro ogi_create_state_schema() -%}
    create schema if not exists "{{ target.database }}"."{{ ogi_state_schema() }}";
    create table if not exists "{{ target.database }}"."{{ ogi_state_schema() }}"."builds" (
        model varchar, invocation_id varchar, mode varchar, built_at timestamptz
    )
{%- endmacro %}

{#-
    Staging views whose rows belong to a report and whose tests read millions of rows at national
    scale (a view re-reads its raw table on every test). In a `dbt build` that is not a full refresh
    their tests read only the rows of reports not yet tested in their present form:

    - the core views (facts and warnings): reports whose raw rows were (re)loaded, repaired or
      newly warned about since the last core build that passed every node; mart_state.staged_reports
      holds, per report, a digest of its raw.reports row, its content's load time and its warning
      count (ogi_staged_report_keys), written by the on-run-end hook of such a build only;
    - the rule results: the reports fct_rule_results is about to rebuild (their results or their
      dim_report row changed since its last build; its state is written only after these tests
      passed, since dbt skips a model whose parent's test failed).

    Only their uniqueness tests are scoped: they group every row (8.6 s of a +1,000 build at
    100,000 reports), while a not-NULL test is a column scan that costs less than finding the
    changed reports. Rows with a NULL report_id or one without a report are always tested.
    `dbt test`, a full refresh and a build without the state test every row.
-#}
{% macro ogi_scoped_staging() -%}
    {{ return(['stg_ogi__table_cells', 'stg_ogi__narrative_facts', 'stg_ogi__parse_warnings',
               'stg_ogi__rule_results']) }}
{%- endmacro %}

{% macro ogi_staged_report_keys() -%}
    select
        reports.report_id,
        -- DuckDB's 64-bit hash of the row, not an md5 of its text: rendering 100,000 rows of ~40
        -- columns as text took about 1 s on every build (computed twice); a DuckDB release that
        -- hashes differently only makes the next build test every report again
        cast(hash(reports, loads.parsed_at, coalesce(warnings.n, 0)) as varchar) as staged_key
    from {{ ogi_literal('raw', 'reports') }} as reports
    left join {{ ogi_literal('raw', 'content_outcomes') }} as loads
        on reports.source_sha256 = loads.source_sha256
    left join (
        select report_id, count(*) as n from {{ ogi_literal('raw', 'parse_warnings') }} group by report_id
    ) as warnings
        on reports.report_id = warnings.report_id
{%- endmacro %}

{% macro ogi_staging_test_scope(name) -%}
    {%- if flags.WHICH != 'build' or flags.FULL_REFRESH -%}{{ return('') }}{%- endif -%}
    {%- set state = '"' ~ target.database ~ '"."' ~ ogi_state_schema() ~ '"' -%}
    {%- if name == 'stg_ogi__rule_results' -%}
        {%- if not ogi_state_exists('fct_rule_results') -%}{{ return('') }}{%- endif -%}
        {{ return("report_id is null or report_id in (" ~ ogi_changed_reports('fct_rule_results', true)
            ~ ") or report_id not in (select report_id from " ~ ogi_literal('marts', 'dim_report') ~ ")") }}
    {%- endif -%}
    {%- if not ogi_state_exists('staged_reports') -%}{{ return('') }}{%- endif -%}
    {{ return("report_id is null or report_id not in (select report_id from " ~ ogi_literal('raw', 'reports')
        ~ ") or report_id in (select current_keys.report_id from (" ~ ogi_staged_report_keys()
        ~ ") as current_keys left join " ~ state ~ ".staged_reports as tested"
        ~ " on current_keys.report_id = tested.report_id"
        ~ " where tested.report_id is null or tested.staged_key <> current_keys.staged_key)") }}
{%- endmacro %}

{#-
    on-run-end: after a core `dbt build` in which every node passed, the reports whose staging rows
    have now been tested (see ogi_staging_test_scope). A failed or skipped node leaves the old state,
    so the next build tests those reports again.
-#}
{% macro ogi_record_staged_reports(results) -%}
    {#- the hook runs the SQL this renders (a statement run while rendering it is rolled back) -#}
    {%- if execute and flags.WHICH == 'build' -%}
        {%- set names = results | map(attribute='node') | map(attribute='name') | list -%}
        {%- set bad = results | selectattr('status', 'in', ['error', 'fail', 'skipped', 'runtime error']) | list -%}
        {%- if 'stg_ogi__table_cells' in names and not bad %}
    create or replace table "{{ target.database }}"."{{ ogi_state_schema() }}"."staged_reports" as
    {{ ogi_staged_report_keys() }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#-
    on-run-end: the rows kept for the data tests of this invocation (get_where_subquery) are dropped
    once every test has run: an incremental build that replaced most reports would otherwise keep a
    second copy of its mart.
-#}
{% macro ogi_drop_rebuilt_rows() -%}
    {%- for name in ogi_incremental_marts() %}
    drop table if exists {{ ogi_rebuilt_rows_relation(name) }};
    {%- endfor %}
{%- endmacro %}
