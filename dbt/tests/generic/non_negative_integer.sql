{#-
    Fails for every non-NULL value that is negative or not a whole number
    (counts of applications, reviews and suits). NULL is allowed: it means the
    cell had no number, and cell_state says what it had.
-#}
{% test non_negative_integer(model, column_name) %}

select
    {{ column_name }} as failing_value

from {{ model }}

where
    {{ column_name }} is not null
    and (
        {{ column_name }} < 0
        or {{ column_name }} <> floor({{ column_name }})
    )

{% endtest %}
