{#-
    Fails for every row where the boolean SQL `expression` is not true
    (false or NULL). Use for row-wise invariants of a model:

        data_tests:
          - expression_is_true:
              arguments:
                expression: "(ingest_status = 'parsed') = (reason is null)"
-#}
{% test expression_is_true(model, expression) %}

select *

from {{ model }}

where not coalesce(({{ expression }}), false)

{% endtest %}
