from django.db import migrations

from baosong.lib.append_only import append_only


class Migration(migrations.Migration):
    dependencies = [("publications", "0001_initial")]
    operations = [append_only("publications_event")]
