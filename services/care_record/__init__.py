"""The child's care record from the SSDA903 return: read, checked and derived, without a database.

* ``tables``: the return's tables, recognised by their columns;
* ``reader``: streaming reading of several files and years at once, grouped by child;
* ``rules``: the rules one child's rows must pass (all apply or none) and the collection year
  a row belongs to;
* ``records``: the clean, typed record of one child;
* ``rejections``: a rejected row, safe to print (no personal data);
* ``derive``: facts as of a date (legal status, placement, periods of care, placements in the
  last 12 months) that the cohorts are built from.

Typical use::

    care_return = open_return(paths, la="Sefton")
    for outcome in care_return.records(as_of=day):
        ...  # Accepted(record) or Rejected(child_id, rejections, rows)
    care_return.unattached  # rows that name no child
"""
