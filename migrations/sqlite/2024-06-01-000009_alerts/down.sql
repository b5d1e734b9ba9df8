DROP TABLE alert_deliveries;
DROP TABLE alerts;
DROP TABLE notification_channels;
