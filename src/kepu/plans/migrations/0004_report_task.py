from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("plans", "0003_target_notes_bilingual"),
    ]

    operations = [
        migrations.AddField(
            model_name="reportfile",
            name="failure",
            field=models.CharField(
                blank=True,
                choices=[
                    ("error", "生成报告时出错。"),
                    ("interrupted", "后台生成报告的进程中断，多次重试后仍未完成。"),
                    ("timeout", "等待过久仍未开始生成：后台任务进程可能没有运行。"),
                ],
                max_length=12,
            ),
        ),
        migrations.AddField(
            model_name="reportfile",
            name="task_id",
            field=models.CharField(blank=True, max_length=64),
        ),
    ]
